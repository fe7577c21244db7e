package dev.lockkeeper.controller.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition of the fake cluster until it holds, failing with {@code what} once {@code limit} has passed. */
public final class Await {
    private Await() {}

    public static void until(Duration limit, Duration poll, Supplier<String> what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what.get());
            try {
                Thread.sleep(poll.toMillis());
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
