// Self-booking page script: plain DOM, no dependencies. Server text is only ever inserted
// with textContent (never innerHTML). Every state-changing request carries the CSRF token.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let departments = [];

  async function api(path, body) {
    const options = { credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      options.method = 'POST';
      options.headers['Content-Type'] = 'application/json';
      options.headers['X-CSRF-Token'] = token;
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (e) {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { ok: response.ok, status: response.status, data: data,
             retryAfter: response.headers.get('Retry-After') };
  }

  const FIELD_LABELS = {
    mrn: 'hospital number', date_of_birth: 'date of birth', given_name: 'first name',
    family_name: 'last name', phone: 'mobile phone', email: 'e-mail', start: 'time',
    doctor_id: 'doctor', reference: 'booking reference', date: 'day'
  };

  function problemText(result) {
    const data = result.data || {};
    if (result.status === 0) return 'We could not reach the hospital. Check your connection and try again.';
    if (result.status === 429) {
      const minutes = Math.max(1, Math.ceil((parseInt(result.retryAfter, 10) || 60) / 60));
      return 'Too many attempts. Please try again in ' + minutes + ' minute' + (minutes > 1 ? 's' : '') + '.';
    }
    if (result.status === 403) return data.detail || 'This page has expired. Please reload it.';
    if (data.code === 'validation_error' && Array.isArray(data.errors) && data.errors.length) {
      const names = data.errors.map((e) => {
        const last = String(e.field || '').split('.').pop();
        return FIELD_LABELS[last] || last;
      });
      return 'Please check: ' + Array.from(new Set(names)).join(', ') + '.';
    }
    return data.detail || 'Something went wrong. Please try again.';
  }

  function localTime(iso) { return iso.slice(11, 16); }
  function localDate(iso) {
    const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(undefined,
      { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  }
  function isoDay(date) {
    return date.getFullYear() + '-' + String(date.getMonth() + 1).padStart(2, '0') + '-' +
      String(date.getDate()).padStart(2, '0');
  }
  function option(value, text) {
    const o = document.createElement('option');
    o.value = value; o.textContent = text; return o;
  }

  // --- step 1: departments, doctors, day ---
  async function loadDepartments() {
    const select = $('department');
    const result = await api('/book/api/departments');
    select.replaceChildren();
    if (!result.ok) {
      select.append(option('', 'Could not load departments'));
      $('slots-status').textContent = problemText(result);
      return;
    }
    departments = result.data.items;
    select.append(option('', departments.length ? 'Choose a department' : 'No departments available'));
    departments.forEach((d) => select.append(option(String(d.id), d.name)));
  }

  function fillDoctors() {
    const doctorSelect = $('doctor');
    const department = departments.find((d) => String(d.id) === $('department').value);
    doctorSelect.replaceChildren();
    if (!department) {
      doctorSelect.append(option('', 'Choose a department first'));
      doctorSelect.disabled = true;
      return;
    }
    doctorSelect.append(option('', 'Choose a doctor'));
    department.doctors.forEach((doc) =>
      doctorSelect.append(option(String(doc.id), doc.name + ' – ' + doc.specialty)));
    doctorSelect.disabled = false;
  }

  // --- step 2: free times ---
  let slotRequest = 0;  // only the newest answer is shown when requests overlap

  async function showSlots() {
    const status = $('slots-status');
    const box = $('slots');
    const doctorId = $('doctor').value;
    const day = $('day').value;
    const request = ++slotRequest;
    box.hidden = true;
    box.querySelectorAll('label').forEach((l) => l.remove());
    if (!doctorId || !day) {
      status.textContent = 'Please choose a department, a doctor and a day first.';
      return;
    }
    status.textContent = 'Looking for free times…';
    const result = await api('/book/api/slots?doctor_id=' + encodeURIComponent(doctorId) +
                             '&date=' + encodeURIComponent(day));
    if (request !== slotRequest) return;
    if (!result.ok) { status.textContent = problemText(result); return; }
    const items = result.data.items;
    if (!items.length) {
      status.textContent = 'No free times on ' + localDate(day) + '. Please try another day.';
      return;
    }
    box.querySelectorAll('label').forEach((l) => l.remove());
    items.forEach((slot, i) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'radio'; input.name = 'slot'; input.value = slot.start;
      input.id = 'slot-' + i;
      const span = document.createElement('span');
      span.textContent = localTime(slot.start);
      label.append(input, span);
      box.append(label);
    });
    box.hidden = false;
    status.textContent = items.length + ' free time' + (items.length > 1 ? 's' : '') + ' on ' +
      localDate(day) + '. Choose one.';
  }

  // --- step 3: details and booking ---
  function kind() { return document.querySelector('input[name="kind"]:checked').value; }
  function toggleKind() {
    const isNew = kind() === 'new';
    $('existing-fields').hidden = isNew;
    $('new-fields').hidden = !isNew;
  }

  function markMissing(ids) {
    document.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
    ids.forEach((id) => $(id).setAttribute('aria-invalid', 'true'));
    if (ids.length) $(ids[0]).focus();
  }

  async function book(event) {
    event.preventDefault();
    const error = $('book-error');
    error.textContent = '';
    const slot = document.querySelector('input[name="slot"]:checked');
    const missing = [];
    let patient;
    if (kind() === 'existing') {
      if (!$('mrn').value.trim()) missing.push('mrn');
      if (!$('dob-existing').value) missing.push('dob-existing');
      patient = { kind: 'existing', mrn: $('mrn').value.trim(), date_of_birth: $('dob-existing').value };
    } else {
      ['given-name', 'family-name', 'dob-new', 'phone'].forEach((id) => {
        if (!$(id).value.trim()) missing.push(id);
      });
      patient = { kind: 'new', given_name: $('given-name').value.trim(),
                  family_name: $('family-name').value.trim(), date_of_birth: $('dob-new').value,
                  phone: $('phone').value.trim() };
      if ($('email').value.trim()) patient.email = $('email').value.trim();
    }
    if (!slot) {
      error.textContent = 'Please choose a free time in step 2.';
      $('show-slots').focus();
      return;
    }
    if (missing.length) {
      markMissing(missing);
      error.textContent = 'Please fill in the highlighted fields.';
      return;
    }
    markMissing([]);
    const button = $('book-submit');
    button.disabled = true;
    button.textContent = 'Booking…';
    const result = await api('/book/api/bookings',
      { doctor_id: Number($('doctor').value), start: slot.value, patient: patient });
    button.disabled = false;
    button.textContent = 'Book appointment';
    if (!result.ok) {
      error.textContent = problemText(result);
      if (result.status === 409) showSlots();
      return;
    }
    showConfirmation(result.data);
  }

  function showConfirmation(booking) {
    const box = $('confirmation');
    box.replaceChildren();
    const h = document.createElement('h2');
    h.textContent = 'Your appointment is booked';
    const p = document.createElement('p');
    p.textContent = 'Your booking reference (keep it to cancel):';
    const ref = document.createElement('p');
    ref.className = 'reference';
    ref.id = 'booking-reference';
    ref.textContent = booking.reference;
    const dl = document.createElement('dl');
    const rows = [['When', localDate(booking.start) + ' at ' + localTime(booking.start)],
                  ['Doctor', booking.doctor], ['Department', booking.department]];
    if (booking.location) rows.push(['Where', booking.location]);
    if (booking.mrn) rows.push(['Your hospital number', booking.mrn]);
    rows.forEach(([k, v]) => {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      dl.append(dt, dd);
    });
    const again = document.createElement('button');
    again.type = 'button';
    again.className = 'secondary';
    again.textContent = 'Book another appointment';
    again.addEventListener('click', () => {
      box.hidden = true;
      $('book-form').hidden = false;
      showSlots();
      $('department').focus();
    });
    box.append(h, p, ref, dl, again);
    box.dataset.reference = booking.reference;
    box.hidden = false;
    $('book-form').hidden = true;
    box.focus();
  }

  // --- cancelling ---
  async function cancel(event) {
    event.preventDefault();
    const error = $('cancel-error');
    const out = $('cancel-result');
    error.textContent = ''; out.textContent = '';
    const missing = [];
    if (!$('reference').value.trim()) missing.push('reference');
    if (!$('dob-cancel').value) missing.push('dob-cancel');
    if (missing.length) {
      markMissing(missing);
      error.textContent = 'Please enter your booking reference and date of birth.';
      return;
    }
    markMissing([]);
    const button = $('cancel-submit');
    button.disabled = true;
    const result = await api('/book/api/cancellations',
      { reference: $('reference').value.trim(), date_of_birth: $('dob-cancel').value });
    button.disabled = false;
    if (!result.ok) { error.textContent = problemText(result); return; }
    out.textContent = 'Booking ' + result.data.reference + ' for ' + localDate(result.data.start) +
      ' at ' + localTime(result.data.start) + ' is cancelled.';
    const box = $('confirmation');
    if (!box.hidden && box.dataset.reference === result.data.reference) {
      box.classList.add('cancelled');
      box.querySelector('h2').textContent = 'This appointment is cancelled';
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    const today = new Date();
    const last = new Date(today.getTime() + 90 * 86400000);
    $('day').min = isoDay(today); $('day').max = isoDay(last); $('day').value = isoDay(today);
    ['dob-existing', 'dob-new', 'dob-cancel'].forEach((id) => { $(id).max = isoDay(today); });
    $('department').addEventListener('change', fillDoctors);
    $('show-slots').addEventListener('click', showSlots);
    $('doctor').addEventListener('change', () => { if ($('day').value) showSlots(); });
    $('day').addEventListener('change', () => { if ($('doctor').value) showSlots(); });
    document.querySelectorAll('input[name="kind"]').forEach((r) => r.addEventListener('change', toggleKind));
    $('book-form').addEventListener('submit', book);
    $('cancel-form').addEventListener('submit', cancel);
    toggleKind();
    loadDepartments();
  });
})();
