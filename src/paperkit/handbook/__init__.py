"""The handbook and the checklist: options, contexts, the layout in parts, and the job."""
