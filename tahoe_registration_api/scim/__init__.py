"""
SCIM 2.0 (RFC 7643/7644) for identity providers: a site's learners as SCIM ``User`` resources.

``schemas`` publishes what the service offers, ``resources`` reads and writes the ``User``
representation, ``patch`` applies a ``PatchOp``, ``filters`` turns a ``filter`` into a query and
``users`` does the work: a learner is created through the registration pipeline and changed,
switched off and on through the learner API's ``LearnerUpdate``, like every other driver.
"""
