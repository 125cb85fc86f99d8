/* The Photos page opened at /photos/#photo-<id> (a photo a chat answer showed): open that photo in the
   viewer (photos.js) when its tile is on the page, else show the photo itself. */

const match = /^#photo-(\d{1,12})$/.exec(window.location.hash);
if (match) {
  const link = document.querySelector(`.photo-tile[data-photo-id='${Number(match[1])}'] [data-open-photo]`);
  if (link) {
    link.scrollIntoView({ block: "center" });
    link.click();
  } else {
    window.location.replace(`/photos/${Number(match[1])}/view/`);
  }
}
