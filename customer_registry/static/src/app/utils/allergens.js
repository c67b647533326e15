/**
 * The allergen conflicts of a product for a customer, from the data the till loaded (no server call).
 *
 * A conflict: the product contains one of the customer's allergies, or may contain (traces) one of
 * their severe allergies. Members without a valid health consent have no allergies loaded at all.
 *
 * @returns {{allergen: Object, kind: "contains"|"traces"}[]}
 */
export function allergenConflicts(partner, productTemplate) {
    const allergies = partner?.registryAllergies || [];
    if (!allergies.length || !productTemplate) {
        return [];
    }
    const allergic = new Set(allergies.map((allergy) => allergy.allergen.id));
    const severe = new Set(allergies.filter((allergy) => allergy.severe).map((allergy) => allergy.allergen.id));
    return [
        ...(productTemplate.allergen_contains_ids || [])
            .filter((allergen) => allergic.has(allergen.id))
            .map((allergen) => ({ allergen, kind: "contains" })),
        ...(productTemplate.allergen_trace_ids || [])
            .filter((allergen) => severe.has(allergen.id))
            .map((allergen) => ({ allergen, kind: "traces" })),
    ];
}

/** The conflicts of a line the cashier has not confirmed yet (lines taken back warn of nothing). */
export function unconfirmedAllergenConflicts(line, partner) {
    if (!(line.qty > 0)) {
        return [];
    }
    const confirmed = new Set((line.registry_allergen_confirmed_ids || []).map((allergen) => allergen.id));
    return allergenConflicts(partner, line.product_id?.product_tmpl_id).filter(
        (conflict) => !confirmed.has(conflict.allergen.id)
    );
}
