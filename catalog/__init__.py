"""What the archive holds: accounts, posts and their versions, search indexes, appraisal."""
