# Copyright 2026 customer_registry contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Customer Registry",
    "summary": "Pseudonymous customer register for Point of Sale: card codes, "
    "profile, consents, personal data kept apart",
    "version": "19.0.1.1.0",
    "category": "Sales/Point of Sale",
    "website": "https://github.com/customer-registry/customer_registry",
    "author": "customer_registry contributors",
    "license": "LGPL-3",
    "depends": ["point_of_sale"],
    "external_dependencies": {"python": ["python-stdnum"]},
    "data": [
        "security/customer_registry_groups.xml",
        "security/ir.model.access.csv",
        "security/customer_registry_rules.xml",
        "data/customer_allergen_data.xml",
        "data/customer_diet_data.xml",
        "views/customer_identity_views.xml",
        "views/customer_consent_views.xml",
        "views/customer_profile_views.xml",
        "views/res_partner_views.xml",
        "views/pos_order_views.xml",
        "wizards/customer_erasure_wizard_views.xml",
        "report/access_export_templates.xml",
        "views/customer_registry_menus.xml",
        "views/res_config_settings_views.xml",
        "report/customer_metrics_report_views.xml",
        "report/customer_kpi_report_views.xml",
        "report/customer_cohort_report_views.xml",
        "report/member_card_report.xml",
        "views/customer_segment_views.xml",
        "wizards/customer_segment_mailing_wizard_views.xml",
        "views/customer_registry_reporting_menus.xml",
        "data/customer_loyalty_data.xml",
        "data/customer_privacy_data.xml",
        "data/customer_retention_data.xml",
        "views/customer_loyalty_entry_views.xml",
        "views/customer_loyalty_program_views.xml",
    ],
    "uninstall_hook": "uninstall_hook",
    "demo": [
        "demo/customer_registry_demo.xml",
    ],
    "assets": {
        "point_of_sale._assets_pos": [
            "customer_registry/static/src/app/**/*",
        ],
        "web.assets_tests": [
            "customer_registry/static/tests/tours/**/*",
        ],
    },
}
