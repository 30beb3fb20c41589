"""The data-handling part of the privacy policy, rendered from the deployment's own settings.

Every statement names the promise it makes (P1…, the index in ``tests/test_promises.py``) and
every number in it comes from the code or the deploy settings, never from this text: change a
TTL, a scope or a location and the rendered policy changes with it. A statement whose promise has
no tests in the index cannot be rendered (:class:`UnprovenStatement`), so the policy says only
what a test proves. The operator's own parts (company, contact, governing law) come from a small
TOML file (``deploy/policy/operator.toml`` holds the placeholders).

``python -m deploy.policy`` prints the Markdown; ``--format html`` the page the web app serves at
``/privacy``.
"""
