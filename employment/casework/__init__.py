"""The work with each person: vocational profile, disclosure and benefits planning."""
