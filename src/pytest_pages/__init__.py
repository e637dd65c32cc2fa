"""pytest-pages: a documentation site's Markdown pages, run as tests.

Switched on by the ini option `pages` (the folders of pages); without it the plugin collects
nothing and changes nothing. The words:

- page: a Markdown file in one of those folders, run top to bottom with one namespace and one
  event loop, on a virtual clock (looptime) unless its front matter says `clock: real`;
- block: a fenced ```` ```python ```` block on a page (Material attributes allowed), or an
  `<!-- invisible-code-block: python -->`; it may use top-level `await`;
- snippet: a file in the `pages_snippets` folder that a block includes with pymdownx.snippets'
  `--8<-- "file.py"` or `--8<-- "file.py:section"`; the real file runs, under its own name;
- exchange: an ```` ```http ```` request block followed by an ```` ```http ```` response block;
  the request is sent to the page's `app`, in-process and over a socket, and the response must
  match (`exchanges.py`);
- conversation: a ```` ```websocket ```` block, replayed against the page's `app` over a
  socket (`conversations.py`);
- output: a plain fenced block right after a block, showing what the block prints; what it
  printed must read the same (`output.py`);
- prose number: a number in a sentence marked `3.0<!-- = expression -->`, compared with the
  expression's value once the page has run (`prose.py`).

A project plugs its own set-up into every page (mocked upstreams, a seeded database, the
environment its code reads) by implementing the hook `pytest_pages_setup` (`hookspecs.py`).
"""
