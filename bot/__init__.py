"""The bot: composition root, CLI, runners. Importing it defers the build of aiogram's types
to their first use (`bot.lazy_types`): every process of ours starts about 2.5 s sooner."""

from bot.lazy_types import defer_aiogram_builds

defer_aiogram_builds()
