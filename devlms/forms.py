"""The development LMS's example of an operator's extension form (a ModelForm whose model links the user)."""

from django import forms

from devlms.models import LearnerExtension


class LearnerExtensionForm(forms.ModelForm):
    """Company (required), title, department (one of three) and a head count, as a site's sign-up may ask."""

    class Meta:
        """The model's fields the form takes (all but ``user``, which registration sets)."""

        model = LearnerExtension
        fields = ("company", "title", "department", "employees")


class PlainExtensionForm(forms.Form):
    """An extension form without a model: what the platform's account API keeps in the profile's ``meta``."""

    company = forms.CharField(max_length=100)
    title = forms.CharField(max_length=64, required=False)
