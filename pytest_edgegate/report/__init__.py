"""Reports: the JSON results document, the HTML report and the GitHub Actions outputs.

Import-light on purpose (no jinja2 here): each writer imports what it needs when it runs.
"""
