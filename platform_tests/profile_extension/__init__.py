"""An operator's extension form, as the platform documents it: a model linked to the user and its ModelForm."""
