"""The household: first-visit setup, members, sign-in."""
