-- The example database: JSONPlaceholder's ten users and five of their posts
-- (MIT licence, see upstream/jsonplaceholder/LICENSE). The tests load this
-- file into a fresh SQLite database for every page and test; the apps never
-- create or seed tables themselves.

-- --8<-- [start:schema]
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    email TEXT NOT NULL
);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL
);
-- --8<-- [end:schema]

INSERT INTO users (id, name, username, email) VALUES
    (1, 'Leanne Graham', 'Bret', 'Sincere@april.biz'),
    (2, 'Ervin Howell', 'Antonette', 'Shanna@melissa.tv'),
    (3, 'Clementine Bauch', 'Samantha', 'Nathan@yesenia.net'),
    (4, 'Patricia Lebsack', 'Karianne', 'Julianne.OConner@kory.org'),
    (5, 'Chelsey Dietrich', 'Kamren', 'Lucio_Hettinger@annie.ca'),
    (6, 'Mrs. Dennis Schulist', 'Leopoldo_Corkery', 'Karley_Dach@jasper.info'),
    (7, 'Kurtis Weissnat', 'Elwyn.Skiles', 'Telly.Hoeger@billy.biz'),
    (8, 'Nicholas Runolfsdottir V', 'Maxime_Nienow', 'Sherwood@rosamond.me'),
    (9, 'Glenna Reichert', 'Delphine', 'Chaim_McDermott@dana.io'),
    (10, 'Clementina DuBuque', 'Moriah.Stanton', 'Rey.Padberg@karina.biz');

INSERT INTO posts (id, user_id, title) VALUES
    (2, 1, 'qui est esse'),
    (4, 1, 'eum et est occaecati'),
    (5, 1, 'nesciunt quas odio'),
    (14, 2, 'voluptatem eligendi optio'),
    (15, 2, 'eveniet quod temporibus');
