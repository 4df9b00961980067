"""Family onboarding: the school invites a parent, guardian or 16+ pupil by e-mail;
the invitee logs in at the family identity provider and redeems a single-use code."""
