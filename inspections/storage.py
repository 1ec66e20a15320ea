"""Photos of supervision live under ``PRIVATE_ROOT/inspections`` (no public URL): scoped views serve them."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Read ``PRIVATE_ROOT`` at each use, so tests that move it are honoured."""

    @property
    def base_location(self):
        return str(Path(settings.PRIVATE_ROOT) / "inspections")

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("private files have no URL")


private_storage = PrivateStorage()
