"""The form the LMS's ``REGISTRATION_EXTENSION_FORM`` names in the platform suite."""

from django import forms
from profile_extension.models import LearnerExtension


class LearnerExtensionForm(forms.ModelForm):
    """The model's fields, validated by the model's rules (lengths, choices, required)."""

    class Meta:
        model = LearnerExtension
        fields = ("company", "title", "department")
