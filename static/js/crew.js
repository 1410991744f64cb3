// The crew's phone: where the phone may tell its position, each action form carries it,
// so the dispatcher's distances stay true. Nothing here is needed for a form to work.
(() => {
  const forms = document.querySelectorAll("form [name=latitude]");
  if (!forms.length || !navigator.geolocation) {
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (position) => {
      document.querySelectorAll("form").forEach((form) => {
        if (form.elements.latitude && form.elements.longitude) {
          form.elements.latitude.value = position.coords.latitude.toFixed(6);
          form.elements.longitude.value = position.coords.longitude.toFixed(6);
        }
      });
    },
    () => {},
    { maximumAge: 300000, timeout: 10000 },
  );
})();
