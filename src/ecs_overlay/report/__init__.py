"""Every output of a command, one module per ``--format``: ``text``, ``json``, ``markdown``, ``pr_comment``,
``sarif``, ``junit``, ``github``. ``reporters`` maps each format name to what it renders per command.

A user's string is escaped for its sink once, in the module that writes to that sink: ``terminal``
(the text format and messages), ``markdown_escape`` (markdown and pr-comment), ``github`` (workflow
commands), ``junit`` (XML), ``sarif`` (URIs). ``shown`` masks secrets before any of them;
``located`` places findings at a service, environment and file for the CI formats.
"""
