from django.db import migrations


def remove_pending(apps, schema_editor):
    # Set-ups left unconfirmed by the version that stored the key when the page was shown: whoever opened that
    # page knows the key. A set-up now keeps its key in the session until confirmed, so none is needed.
    apps.get_model("otp_totp", "TOTPDevice").objects.filter(confirmed=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(remove_pending, migrations.RunPython.noop)]
