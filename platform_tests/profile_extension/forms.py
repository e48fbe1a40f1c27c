"""The form the LMS's ``REGISTRATION_EXTENSION_FORM`` names in the platform suite."""

from django import forms
from profile_extension.models import LearnerExtension


class LearnerExtensionForm(forms.ModelForm):
    """The model's fields, validated by the model's rules (lengths, choices, required)."""

    class Meta:
        model = LearnerExtension
        fields = ("company", "title", "department")


class PlainExtensionForm(forms.Form):
    """A form without a model (the platform's own sign-up cannot save one): its values go to the profile's meta."""

    company = forms.CharField(max_length=100)
    name = forms.CharField(max_length=255)  # named like the API's field: the form is given the learner's name
    password = forms.CharField(required=False)  # never given the learner's password
