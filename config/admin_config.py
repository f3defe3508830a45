from django.contrib.admin.apps import AdminConfig


class OfficeAdminConfig(AdminConfig):
    """Django's admin app with the office's own site (config/admin_site.py) as `admin.site`."""

    default_site = "config.admin_site.OfficeAdminSite"
