"""Counting the rows a registration writes, to prove that a refused one writes none."""

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from tahoe_sites.models import UserOrganizationMapping

from devlms.models import ActivationRecord, LearnerExtension, LearnerProfile
from tahoe_registration_api.models import RegistrationClaim


def row_counts():
    """Count every table a registration touches."""
    return {
        "users": get_user_model().objects.count(),
        "profiles": LearnerProfile.objects.count(),
        "activation_records": ActivationRecord.objects.count(),
        "extensions": LearnerExtension.objects.count(),
        "memberships": UserOrganizationMapping.objects.count(),
        "claims": RegistrationClaim.objects.count(),
        "tokens": Token.objects.count(),
    }
