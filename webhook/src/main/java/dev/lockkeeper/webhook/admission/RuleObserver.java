package dev.lockkeeper.webhook.admission;

/** Told about every rule evaluation and every finished review (metrics hook; no Micrometer here). */
public interface RuleObserver {
    RuleObserver NONE = new RuleObserver() {
        @Override
        public void ruleEvaluated(String endpoint, String rule, String outcome, long nanos) {}

        @Override
        public void reviewDecided(String endpoint, String outcome, long nanos) {}
    };

    void ruleEvaluated(String endpoint, String rule, String outcome, long nanos);

    void reviewDecided(String endpoint, String outcome, long nanos);
}
