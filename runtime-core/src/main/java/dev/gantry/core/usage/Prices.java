package dev.gantry.core.usage;

import java.util.Map;

/** The price of each model; models not listed use the default price ({@link Price#FREE} unless set). */
public record Prices(Map<String, Price> byModel, Price defaultPrice) {
    public static final Prices NONE = new Prices(Map.of(), Price.FREE);

    public Prices {
        byModel = Map.copyOf(byModel);
    }

    public Price of(String model) {
        return byModel.getOrDefault(model, defaultPrice);
    }
}
