package dev.camelbatch.openaibatch.api;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One page of a list ({@code ListBatchesResponse}, {@code ListFilesResponse}). Missing fields are tolerated:
 * {@link #getData()} is never {@code null}.
 *
 * @param <T> the item type
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public abstract class ListPage<T> {

    @JsonProperty("object")
    private String object;
    @JsonProperty("data")
    private List<T> data;
    @JsonProperty("first_id")
    private String firstId;
    @JsonProperty("last_id")
    private String lastId;
    @JsonProperty("has_more")
    private Boolean hasMore;

    protected ListPage() {
    }

    /** The id of an item, the cursor of the page after it. */
    protected abstract String idOf(T item);

    public String getObject() {
        return object;
    }

    public void setObject(String object) {
        this.object = object;
    }

    /** The items of this page; never {@code null}. */
    public List<T> getData() {
        if (data == null) {
            data = new ArrayList<>();
        }
        return data;
    }

    public void setData(List<T> data) {
        this.data = data;
    }

    public String getFirstId() {
        return firstId;
    }

    public void setFirstId(String firstId) {
        this.firstId = firstId;
    }

    public String getLastId() {
        return lastId;
    }

    public void setLastId(String lastId) {
        this.lastId = lastId;
    }

    /** The raw {@code has_more} value, possibly {@code null}. */
    public Boolean getHasMore() {
        return hasMore;
    }

    public void setHasMore(Boolean hasMore) {
        this.hasMore = hasMore;
    }

    /** Whether more items follow this page ({@code false} when the field is missing). */
    public boolean hasMore() {
        return Boolean.TRUE.equals(hasMore);
    }

    /** The cursor for the next page: {@code last_id}, or the id of the last item when {@code last_id} is missing. */
    public String nextCursor() {
        if (lastId != null && !lastId.isEmpty()) {
            return lastId;
        }
        List<T> d = getData();
        return d.isEmpty() ? null : idOf(d.get(d.size() - 1));
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "{size=" + getData().size() + ", first_id=" + firstId + ", last_id=" + lastId + ", has_more="
                + hasMore + '}';
    }
}
