from base64 import b32encode

from django.db import migrations
from django.db.models.functions import Length

from config.keyed_hashes import keyed_digest


def recovery_codes_digest(apps, schema_editor):
    # Older versions stored the recovery codes themselves (django-otp's eight characters); each is replaced by
    # the digest accounts.services stores now (made the same way here, so that this migration keeps doing what
    # it did), and the codes people printed keep working. A digest is 16 characters long and no code stored
    # before was, so running this again leaves the digests alone.
    token_model = apps.get_model("otp_static", "StaticToken")
    tokens = []
    for token in token_model.objects.alias(length=Length("token")).exclude(length=16).iterator():
        token.token = b32encode(keyed_digest("accounts.recovery-code", token.token)).decode().lower()[:16]
        tokens.append(token)
    token_model.objects.bulk_update(tokens, ["token"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_remove_pending_app_set_ups"),
        ("otp_static", "0003_add_timestamps"),
    ]

    # Backwards there is nothing to do: the codes themselves are not kept, and the digests keep working.
    operations = [migrations.RunPython(recovery_codes_digest, migrations.RunPython.noop)]
