"""What each platform is: endpoints, pagination and parsing into post records."""
