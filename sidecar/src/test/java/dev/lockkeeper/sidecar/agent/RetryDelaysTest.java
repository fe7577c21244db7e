package dev.lockkeeper.sidecar.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The wait before a task's next attempt: jittered doubling, reset by progress, quick polls while refused. */
class RetryDelaysTest {
    private static final Duration SECOND = Duration.ofSeconds(1);

    /** With the random draw fixed at {@code draw}, each wait is exactly ceiling · (1 + draw) / 2. */
    private static RetryDelays delays(double draw) {
        return new RetryDelays(
                SECOND, Duration.ofSeconds(8), Duration.ofMillis(200), Duration.ofSeconds(1), () -> draw);
    }

    @Test
    void failuresWithoutProgressDoubleUpToTheCeilingWithJitterInItsUpperHalf() {
        RetryDelays middle = delays(0.5);
        RetryDelays bottom = delays(0);
        long[] ceilings = {1000, 2000, 4000, 8000, 8000};
        for (long ceiling : ceilings) {
            assertEquals(ceiling * 3 / 4, middle.next(false, false).toMillis(), "the middle of the jitter");
            assertEquals(ceiling / 2, bottom.next(false, false).toMillis(), "the bottom of the jitter");
        }
    }

    @Test
    void anAttemptThatMovedTheCheckpointStartsTheBackoffAgain() {
        RetryDelays delays = delays(0);
        delays.next(false, false);
        delays.next(false, false);
        assertEquals(2000, delays.next(false, false).toMillis());
        assertEquals(500, delays.next(false, true).toMillis(), "after progress: the first wait again");
        assertEquals(1000, delays.next(false, false).toMillis());
    }

    @Test
    void aRefusedConnectionIsPolledForItsWindowThenBacksOff() {
        RetryDelays delays = delays(0);
        delays.next(false, false);
        delays.next(false, false);
        // 100 ms each (the bottom of a 200 ms poll) while less than the 1 s window has gone by refused
        for (int i = 0; i < 10; i++) assertEquals(100, delays.next(true, false).toMillis(), "poll " + i);
        assertEquals(2000, delays.next(true, false).toMillis(), "a source away longer than the window: backoff");
        assertEquals(4000, delays.next(true, false).toMillis());
        assertEquals(100, delays.next(true, true).toMillis(), "progress opens the window again");
    }
}
