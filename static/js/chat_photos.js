/* Photos from the member's library in an answer ("show me photos of the beach", see
   assistant/chat/photo_answer.py): the answer's sources of kind "photo" as thumbnails, each opening the
   photo viewer on the Photos page. Addresses are built from the photo's number only; its name goes in
   with textContent/alt. */

const doc = document;

const photoId = (source) => {
  const id = Number(source?.photo_id);
  return source?.kind === "photo" && Number.isInteger(id) && id > 0 ? id : 0;
};

/** Fill an answer's list of photos from its sources (hidden when there are none). */
export function renderPhotos(list, sources) {
  if (!list) return;
  const photos = (Array.isArray(sources) ? sources : []).filter(photoId);
  const key = photos.map(photoId).join(" ");
  if (list.getAttribute("data-key") === key) return;
  list.setAttribute("data-key", key);
  list.replaceChildren(
    ...photos.map((source) => {
      const id = photoId(source);
      const name = String(source.name || "Photo");
      const item = doc.createElement("li");
      item.className = "msg__photo";
      const link = doc.createElement("a");
      link.href = `/photos/#photo-${id}`;
      link.title = name;
      link.setAttribute("data-photo-link", String(id));
      const img = doc.createElement("img");
      img.src = `/photos/${id}/thumb/`;
      img.alt = name;
      img.loading = "lazy";
      img.decoding = "async";
      link.append(img);
      item.append(link);
      return item;
    })
  );
  list.hidden = !photos.length;
}
