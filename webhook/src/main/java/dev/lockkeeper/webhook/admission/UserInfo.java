package dev.lockkeeper.webhook.admission;

import java.util.List;
import java.util.Map;

/** The authenticated requester as the API server describes it in {@code request.userInfo}. */
public record UserInfo(String username, String uid, List<String> groups, Map<String, List<String>> extra) {
    public UserInfo {
        username = username == null ? "" : username;
        groups = groups == null ? List.of() : List.copyOf(groups);
        extra = extra == null ? Map.of() : Map.copyOf(extra);
    }
}
