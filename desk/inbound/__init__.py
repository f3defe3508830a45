"""Mail that comes in: the parser shared by the pipe command and the providers' webhooks."""
