import { registry } from "@web/core/registry";

/** The Members dashboard in the Dashboards app, then the report behind one of its figures. */
registry.category("web_tour.tours").add("CustomerRegistryDashboardTour", {
    steps: () => [
        {
            content: "open the Members dashboard",
            trigger: ".o_spreadsheet_dashboard_search_panel li[data-name='Members']",
            run: "click",
        },
        {
            content: "this month's figures are drawn, against last month",
            trigger: ".o-spreadsheet canvas.o-scorecard[title='Active members']",
        },
        {
            content: "the members per segment chart is there",
            trigger: ".o-spreadsheet .o-figure canvas",
        },
        {
            content: "the active members figure opens the member KPIs report",
            trigger: ".o-spreadsheet canvas.o-scorecard[title='Active members']",
            run: "click",
        },
        {
            content: "the member KPIs report is open",
            trigger: ".o_breadcrumb:contains(Member KPIs)",
        },
        {
            trigger: ".o_graph_view, .o_pivot_view",
        },
    ],
});
