"""A skipped test fails the run: Odoo skips browser tours when Chromium or
websocket-client is missing, which would otherwise look green."""


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"{len(skipped)} test(s) skipped: a skip counts as a failure here", red=True)
        session.exitstatus = 1
