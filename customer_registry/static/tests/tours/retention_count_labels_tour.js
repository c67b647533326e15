import { registry } from "@web/core/registry";

/** The labels of the value axis of the graph on screen, for its whole-number ticks. */
function wholeTickLabels() {
    const canvas = document.querySelector(".o_graph_renderer canvas");
    const chart = window.Chart.getChart(canvas);
    return chart.scales.y.ticks
        .filter((tick) => Number.isInteger(tick.value))
        .map((tick) => ({ value: tick.value, label: String(tick.label) }));
}

function assertCountAxis(what) {
    const ticks = wholeTickLabels();
    const misread = ticks.filter(({ value, label }) => label !== String(value));
    if (!ticks.length || misread.length) {
        throw new Error(
            `${what}: the axis should read whole numbers, it reads ${ticks.map((t) => t.label).join(", ")}`
        );
    }
}

/** The text of the pivot's cells of measure column `index`, one per row (the total first). */
function pivotColumn(index) {
    return [...document.querySelectorAll(".o_pivot table tbody tr")].map((row) =>
        row.querySelectorAll("td.o_pivot_cell_value")[index]?.textContent.trim()
    );
}

registry.category("web_tour.tours").add("CustomerRegistryKpiCountLabelsTour", {
    steps: () => [
        {
            content: "the member KPIs open on the active members graph",
            trigger: ".o_graph_renderer canvas",
        },
        {
            content: "active members on the axis read 0, 1, 2, 3, not 0.00, 1.00",
            trigger: ".o_graph_renderer canvas",
            run: () => assertCountAxis("active members per month"),
        },
        {
            content: "open the pivot",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "active members per month read 2, 2, 3 and the total their average, 2.33",
            trigger: ".o_pivot table tbody tr:nth-child(4) td.o_pivot_cell_value",
            run: () => {
                const [total, ...months] = pivotColumn(0);
                const read = [total, ...months.sort()].join(" ");
                if (read !== "2.33 2 2 3") {
                    throw new Error(`active members (total, then months) read ${read}, not 2.33 2 2 3`);
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("CustomerRegistryMetricsCountLabelsTour", {
    steps: () => [
        {
            content: "members per segment: the pivot counts 4 members",
            trigger: ".o_pivot table tbody tr:first-child td.o_pivot_cell_value",
            run: () => {
                const total = pivotColumn(0)[0];
                if (total !== "4") {
                    throw new Error(`the members column's total reads ${total}, not 4`);
                }
            },
        },
        {
            content: "open the graph",
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "members per segment on the axis read whole numbers",
            trigger: ".o_graph_renderer canvas",
            run: () => assertCountAxis("members per segment"),
        },
    ],
});
