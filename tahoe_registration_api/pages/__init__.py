"""The pages the LMS serves to a site's admins: their API token and what the API did on their site."""
