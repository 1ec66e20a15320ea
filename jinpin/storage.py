"""Uploaded files that have no public URL: each app keeps its own folder under ``PRIVATE_ROOT``, and
scoped views stream the files."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """A file system storage under ``settings.PRIVATE_ROOT / folder``, read at each use (so tests that
    move PRIVATE_ROOT are honoured). It has no URL. An app subclasses it with its ``folder`` (and
    ``@deconstructible``, so its migrations name the app's class)."""

    folder = ""

    @property
    def base_location(self):
        return str(Path(settings.PRIVATE_ROOT) / self.folder)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("private files have no URL")
