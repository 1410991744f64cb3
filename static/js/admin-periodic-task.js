// django-celery-beat's periodic task form in the administration: the chosen crontab read
// out under its field, as the package's own inline script does (which the
// Content-Security-Policy refuses).
(() => {
  const $ = window.django && window.django.jQuery;
  const data = document.getElementById("readable-crontabs");
  if (!$ || !data) {
    return;
  }
  const readable = JSON.parse(data.textContent);
  const help = $(".field-crontab .help");
  const original = help.html();
  $(".field-crontab_translation").hide();
  $(".field-crontab").on("change", () => {
    const reading = readable[$("#id_crontab").val()];
    help.html(original).append("<br>", document.createTextNode(`Translation: ${reading}`));
  });
})();
