"""English pages write dates as the Chinese ones do (see ``jinpin/formats/zh_Hans/formats.py``)."""

from jinpin.formats.zh_Hans.formats import *  # noqa: F403
