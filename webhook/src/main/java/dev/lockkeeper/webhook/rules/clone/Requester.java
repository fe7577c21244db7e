package dev.lockkeeper.webhook.rules.clone;

import dev.lockkeeper.webhook.admission.UserInfo;
import java.util.List;
import java.util.Map;

/** Whose permission a clone needs: the requesting user (DataVolumes) or the VM's service account. */
public sealed interface Requester {

    String user();

    List<String> groups();

    Map<String, List<String>> extra();

    /** The subject flag of {@code kubectl create rolebinding} that names this requester. */
    String kubectlSubject();

    /** SAR identity copied from the AdmissionRequest's userInfo; upstream does not copy {@code uid}. */
    record User(UserInfo info) implements Requester {
        @Override
        public String user() {
            return info.username();
        }

        @Override
        public List<String> groups() {
            return info.groups();
        }

        @Override
        public Map<String, List<String>> extra() {
            return info.extra();
        }

        @Override
        public String kubectlSubject() {
            return "--user=" + info.username();
        }
    }

    /** KubeVirt authorizes dataVolumeTemplates as the VM's service account with its implicit groups. */
    record ServiceAccount(String namespace, String name) implements Requester {
        @Override
        public String user() {
            return "system:serviceaccount:" + namespace + ":" + name;
        }

        @Override
        public List<String> groups() {
            return List.of("system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated");
        }

        @Override
        public Map<String, List<String>> extra() {
            return Map.of();
        }

        @Override
        public String kubectlSubject() {
            return "--serviceaccount=" + namespace + ":" + name;
        }
    }
}
