"""Project commands (COMMANDS_MODULE): ``crawl`` with an exit status cron can read."""
