"""Exams: options, blueprints, selection, points, the paper and key contexts, manifests, rosters and the job."""
