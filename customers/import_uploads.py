"""Customer spreadsheets kept between the import's preview and its confirm, and their removal.

Apart from the admin, so that beat's hourly removal (customers.tasks) does not import the admin to reach it.
Uploads hold personal data: they live under DOORSTEP_VAR_DIR for a day at most.
"""

import os
import tempfile
import time

from django.conf import settings
from import_export.tmp_storages import TempFolderStorage

KEEP_UPLOADS_SECONDS = 24 * 3600


class ImportUploadStorage(TempFolderStorage):
    """Uploads between preview and confirm, in a folder of Doorstep's own; older ones are deleted."""

    @staticmethod
    def folder() -> str:
        folder = os.path.join(settings.VAR_DIR, "imports")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        return folder

    def get_full_path(self):
        return os.path.join(self.folder(), os.path.basename(self.name))

    def _open(self, mode="r"):
        if self.name:
            return open(self.get_full_path(), mode, encoding=self.encoding)
        self.remove_old()
        file = tempfile.NamedTemporaryFile(dir=self.folder(), prefix="customers-", delete=False)
        self.name = os.path.basename(file.name)
        return file

    def claim(self) -> str | None:
        """Take the upload for one import: the name it now has, or None when another request took it first
        (a double click on "Import") or it is gone (cancelled, or older than a day)."""
        claimed = f"{os.path.basename(self.name)}.importing"
        try:
            os.rename(self.get_full_path(), os.path.join(self.folder(), claimed))
        except FileNotFoundError:
            return None
        return claimed

    def remove(self):
        try:
            os.remove(self.get_full_path())
        except FileNotFoundError:
            pass

    @classmethod
    def remove_old(cls) -> int:
        """Delete the uploads older than a day (previewed, neither confirmed nor cancelled); returns how many.
        Run at each upload and hourly by beat (customers.tasks): an office that stops importing must not
        keep the last file's personal data."""
        cutoff = time.time() - KEEP_UPLOADS_SECONDS
        removed = 0
        with os.scandir(cls.folder()) as entries:
            for entry in entries:
                try:
                    if entry.is_file() and entry.stat().st_mtime < cutoff:
                        os.remove(entry.path)
                        removed += 1
                except FileNotFoundError:
                    # Claimed or cancelled by a request meanwhile.
                    continue
        return removed
