"""Photos of supervision live under ``PRIVATE_ROOT/inspections`` (no public URL): scoped views serve them."""

from django.utils.deconstruct import deconstructible

from jinpin import storage


@deconstructible
class PrivateStorage(storage.PrivateStorage):
    folder = "inspections"


private_storage = PrivateStorage()
