from django.db import models

from mediation.id_numbers import keyed_hash


class KeyedIdNumbers(models.Model):
    """A model that keeps resident ID numbers encrypted (EncryptedCharField), each
    with the keyed hash it is matched by beside it: `ID_NUMBER_HASHES` maps each
    number's field to its hash's. A save that saves a number sets and saves its hash
    with it; one that names other `update_fields` leaves both alone."""

    ID_NUMBER_HASHES: dict[str, str] = {}

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        for number, hashed in self.ID_NUMBER_HASHES.items():
            if update_fields is not None and number not in update_fields:
                continue  # not saved now: its hash is as it was (a status change, say)
            setattr(self, hashed, keyed_hash(getattr(self, number)))
            if update_fields is not None:
                update_fields = {*update_fields, hashed}
        if update_fields is not None:
            kwargs["update_fields"] = update_fields
        super().save(*args, **kwargs)
