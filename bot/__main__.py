"""``python -m bot`` is the same as the ``redlines-bot`` command."""

from bot.cli import main

raise SystemExit(main())
