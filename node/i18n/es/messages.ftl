# Messages built by the server: field errors, page errors, notices.

msg-field-required = Este campo es obligatorio.
msg-field-too_long = El texto es demasiado largo.
msg-field-invalid = El valor no es válido.
msg-field-taken = Ya existe un registro con este valor.
msg-field-malformed = El valor no tiene el formato esperado.
msg-field-unknown_field = Campo desconocido.
msg-field-password_too_short = La contraseña debe tener al menos 12 caracteres.
msg-field-password_contains_username = La contraseña no puede contener el nombre de usuario.
msg-field-password_too_common = La contraseña es demasiado común o sencilla. Use una frase de varias palabras.
msg-field-wrong_password = La contraseña actual no es correcta.
msg-field-password_unchanged = La nueva contraseña debe ser distinta de la actual.
msg-field-password_mismatch = Las contraseñas no coinciden.
msg-field-wrong_code = El código no es correcto. Revise la hora de su teléfono e intente con el código nuevo.
msg-field-org_code_format = El código debe tener de 2 a 12 letras mayúsculas o dígitos, sin espacios.
msg-field-username_format = El nombre de usuario debe tener de 3 a 64 caracteres: letras minúsculas, dígitos, punto, guion o guion bajo.
msg-field-org_inactive = La organización está inactiva.
msg-field-org_required_for_role = Este rol requiere una organización.
msg-field-org_not_for_role = Este rol es nacional: no lleva organización.
msg-field-cannot_change_self = No puede cambiar su propia cuenta desde aquí; pida el cambio a otra persona administradora.
msg-field-days_out_of_range = Indique un número de días entre 1 y 365.
msg-field-already_revoked = El token ya estaba revocado.
msg-field-email_format = Escriba una dirección de correo válida, sin espacios, por ejemplo nombre@organizacion.org.

msg-error-validation_failed = Los datos enviados no son válidos.
msg-error-unknown_field = La solicitud contiene un campo desconocido.
msg-error-unauthenticated = Debe iniciar sesión.
msg-error-forbidden = No tiene permiso para esta acción. El intento quedó registrado.
msg-error-csrf_rejected = El formulario caducó o no proviene de esta página. Vuelva a cargar la página e intente de nuevo.
msg-error-not_found = La página o el registro no existe.
msg-error-conflict = Ya existe un registro con esos datos.
msg-error-rate_limited = Demasiados intentos. Espere un minuto e intente de nuevo.
msg-error-internal_error = Ocurrió un error interno. No se guardó ningún cambio. Si se repite, avise a la administración nacional.

msg-login-failed = Usuario o contraseña incorrectos, o cuenta bloqueada temporalmente tras varios intentos fallidos.
msg-totp-failed = El código no es correcto. Intente con el código actual de su aplicación o con un código de recuperación.

msg-notice-logged_out = Cerró sesión correctamente.
msg-notice-password_changed = Su contraseña se cambió. Las demás sesiones se cerraron.
msg-notice-org_created = Organización creada.
msg-notice-org_updated = Organización actualizada.
msg-notice-user_created = Usuario creado. Entregue la contraseña temporal en persona.
msg-notice-user_updated = Usuario actualizado.
msg-notice-password_reset = Contraseña restablecida. Entregue la nueva contraseña temporal en persona.
msg-notice-token_revoked = Token revocado.
msg-notice-notice_email_saved = Se guardó la dirección de correo para avisos.
msg-notice-notice_email_removed = Se eliminó la dirección de correo para avisos. Ya no recibirá avisos por correo.

# Registro de casos (cases/pages.rs y las comprobaciones de puente_common::case).
msg-field-end_before_start = La fecha de fin no puede ser anterior a la de inicio.
msg-field-in_future = La fecha no puede estar en el futuro.
msg-field-implausible = El valor no es verosímil. Revíselo.
msg-field-unknown_country = Elija un país de la lista.
msg-field-unknown_language = Elija un idioma de la lista.
msg-field-only_when_closed = El motivo de cierre solo corresponde a un caso cerrado.
msg-field-needs_sexual_exploitation = Para indicar formas de explotación sexual, marque también «explotación sexual» en los tipos de explotación.
msg-field-not_in_country = La subdivisión no pertenece al país indicado.
msg-field-minor_needs_guardian = La persona era menor de edad: el consentimiento debe darlo su madre, padre o tutor(a).
msg-field-referral_fields_on_other_scope = País, organización de destino y datos a enviar solo corresponden a un consentimiento de referencia.
msg-field-only_for_verdict = El resultado solo corresponde a una sentencia o apelación.
msg-field-case_management_consent_required = Falta el consentimiento para la gestión del caso.
msg-field-reason_too_short = Escriba un motivo de al menos 20 caracteres.
msg-field-not_permitted = Su rol no permite esta acción.
msg-field-already_withdrawn = Este consentimiento ya estaba retirado.
msg-field-unknown_code = Elija un valor de la lista.
msg-notice-draft_discarded = Se descartó el borrador del registro.
msg-notice-case_registered = Caso registrado.
msg-notice-case_updated = Caso actualizado.
msg-notice-person_updated = Datos de la persona actualizados.
msg-notice-note_added = Nota agregada a la cronología.
msg-notice-consent_added = Consentimiento registrado.
msg-notice-consent_withdrawn = Retiro del consentimiento registrado.
msg-notice-service_saved = Servicio guardado.
msg-notice-proceeding_saved = Etapa del proceso judicial guardada.
msg-notice-case_closed = Caso cerrado.
msg-notice-case_reassigned = Caso reasignado.
