"""The customers' periodic jobs, run by beat: thin tasks, the work is done where the data is kept."""

from celery import shared_task

from customers.import_uploads import ImportUploadStorage


@shared_task(name="customers.tasks.remove_old_import_uploads", ignore_result=True)
def remove_old_import_uploads() -> int:
    return ImportUploadStorage.remove_old()
