from . import retention_summary
from . import customer_metrics_report
from . import customer_metrics_report_display
from . import customer_kpi_report
from . import customer_kpi_report_totals
from . import customer_cohort_report
