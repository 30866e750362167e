"""IVR menus as data: definitions, validation, publishing, files, diagrams and matching."""
