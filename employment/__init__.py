"""Individual Placement and Support: IPS services, referrals, vocational profiles, job search,
jobs, in-work support and the measures that show whether a service works."""
