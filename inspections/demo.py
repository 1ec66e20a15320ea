def seed_inspections(stdout, scale):
    pass
