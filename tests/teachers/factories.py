"""Factories for the teachers app."""

import datetime as dt
from decimal import Decimal

import factory

from jinpin import idcard
from teachers.models import Post, Teacher, TrainingCourse, TrainingLevel, TrainingMode


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher
        skip_postgeneration_save = True

    class Params:
        birth = factory.Sequence(lambda n: dt.date(1970, 1, 1) + dt.timedelta(days=n))

    name = factory.Sequence(lambda n: f"教师{n}")
    sex = "F"
    id_number = factory.LazyAttributeSequence(lambda o, n: idcard.make("370830", o.birth, 100 + (n % 400) * 2, o.sex))
    birth_date = factory.SelfAttribute("birth")
    post = Post.TEACHER
    subject = "语文"


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingCourse

    code = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"培训{n}")
    provider = "山东省教师教育网"
    level = TrainingLevel.PROVINCIAL
    mode = TrainingMode.REMOTE
    hours = Decimal("30")
    start = dt.date(2017, 3, 1)
    end = dt.date(2017, 3, 10)
